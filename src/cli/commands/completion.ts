import { Command } from 'commander';
import { commandCatalog } from './catalog.js';

// `baton completion bash|zsh` prints a script that asks `baton __complete <words>` for the candidates, so the names
// of apps, environments and datacenters come from the config dir of the moment (BATON_CONFIG_DIR or ./deploy-configs).

const BASH = `# baton completion for bash: eval "$(baton completion bash)" (or save it to /etc/bash_completion.d/baton)
_baton_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(baton __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _baton_complete baton
`;

const ZSH = `#compdef baton
# baton completion for zsh: eval "$(baton completion zsh)" (or save it as _baton in your $fpath)
_baton() {
  local -a candidates
  candidates=("\${(@f)$(baton __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _baton baton
`;

export function register(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script (commands, flags, and app, environment and datacenter names from the config dir)')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      `
Examples:
  eval "$(baton completion bash)"        # in ~/.bashrc
  eval "$(baton completion zsh)"         # in ~/.zshrc (after compinit)

Exit codes: 0 printed · 2 an unknown shell`,
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') {
        process.stderr.write(`baton: completion ${shell}: expected bash or zsh\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(shell === 'bash' ? BASH : ZSH);
    });

  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words: string[]) => {
      for (const candidate of await candidatesFor(words)) process.stdout.write(`${candidate}\n`);
    });
}

/** What may come at the last word, given the words before it. Never fails: a broken config dir just offers less. */
async function candidatesFor(words: string[]): Promise<string[]> {
  const before = words.slice(0, -1);
  const command = before[0];
  if (!command) return [...commandCatalog.map((c) => c.name), 'completion'];
  const previous = before[before.length - 1];
  const { loadEnvironments, listApps, resolveConfigDir } = await import('../../config/load.js');
  const configDir = resolveConfigDir(optionValue(before, '--config-dir'));
  const environments = await loadEnvironments(configDir).catch(() => new Map());
  if (previous === '--env' || previous === '-e') return [...environments.keys()];
  if (previous === '--dc') {
    const env = environments.get(optionValue(before, '--env') ?? optionValue(before, '-e') ?? '');
    const names = env ? env.datacenters.map((d: { name: string }) => d.name) : [...environments.values()].flatMap((e) => e.datacenters.map((d: { name: string }) => d.name));
    return ['all', ...new Set<string>(names)];
  }
  if ((words[words.length - 1] ?? '').startsWith('-')) return flagsOf(command);
  const positional = before.slice(1).filter((word, index, all) => !word.startsWith('-') && !(all[index - 1] ?? '').startsWith('-'));
  if (positional.length === 0 && command !== 'validate' && command !== 'emulator' && command !== 'promote' && command !== 'completion') {
    return listApps(configDir).catch(() => []);
  }
  if (command === 'completion') return ['bash', 'zsh'];
  return [];
}

function optionValue(words: string[], flag: string): string | undefined {
  const index = words.lastIndexOf(flag);
  return index >= 0 ? words[index + 1] : undefined;
}

async function flagsOf(command: string): Promise<string[]> {
  const entry = commandCatalog.find((c) => c.name === command);
  if (!entry) return [];
  const program = new Command();
  (await entry.load()).register(program);
  const registered = program.commands.find((c) => c.name() === command);
  return (registered?.options ?? []).flatMap((option) => [option.long, option.short].filter((flag): flag is string => Boolean(flag)));
}
