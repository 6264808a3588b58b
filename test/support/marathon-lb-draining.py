# Which tasks marathon-lb's own code would drain: fetches Marathon's apps as marathon-lb does, runs its get_apps
# (the merge of a HAPROXY_DEPLOYMENT_GROUP's colours) and prints {taskId: draining} as JSON.
# Usage: /usr/bin/python3 marathon-lb-draining.py <marathon-lb dir> <marathon url>
import json
import sys
import urllib.request

mlb_dir, marathon = sys.argv[1], sys.argv[2]
sys.path.insert(0, mlb_dir)
sys.argv = ['marathon_lb']
import marathon_lb  # noqa: E402

with urllib.request.urlopen(marathon + '/v2/apps?embed=apps.tasks') as answer:
    apps = json.load(answer)['apps']
try:
    marathon_lb.get_apps(None, apps)
except Exception:
    # The group merge that marks draining tasks runs first; what fails after it (resolving the emulator's agent host
    # names, say) is not what is asked here.
    pass
print(json.dumps({task['id']: bool(task.get('draining')) for app in apps for task in app.get('tasks', [])}))
