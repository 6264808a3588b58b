process.stderr.write('baton-autoscaler: not implemented yet (issue 4)\n');
process.exitCode = 2;
