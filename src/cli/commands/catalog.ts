import type { Command } from 'commander';

/** Each command module registers itself on the program. One file per command in this folder. */
export type RegisterCommand = (program: Command) => void;

export interface CommandEntry {
  name: string;
  /** One line for `baton --help`; the module's own description and options show in `baton <command> --help`. */
  summary: string;
  load: () => Promise<{ register: RegisterCommand }>;
}

/**
 * Every command, loaded only when it is the one being run: `baton --help` must not pay for zod, axios and the schemas
 * every command pulls in (start-up is a benchmark figure).
 */
export const commandCatalog: CommandEntry[] = [
  { name: 'deploy', summary: 'Deploy a tagged image to an environment, wait until healthy, roll back if not', load: () => import('./deploy.js') },
  { name: 'diff', summary: 'Show what deploying a version would change in each datacenter', load: () => import('./diff.js') },
  { name: 'status', summary: 'Which version runs where: health, deployments, drift', load: () => import('./status.js') },
  { name: 'history', summary: "An app's versions in Marathon joined with who deployed them", load: () => import('./history.js') },
  { name: 'rollback', summary: 'Put an earlier version back, wait until healthy, recover if not', load: () => import('./rollback.js') },
  { name: 'promote', summary: 'Point a release tag at an image through the registry API (no Docker daemon)', load: () => import('./promote.js') },
  { name: 'validate', summary: 'Check every app and environment in the config dir, offline', load: () => import('./validate.js') },
  { name: 'emulator', summary: 'Run the in-memory Marathon 1.10 emulator', load: () => import('./emulator.js') },
];

