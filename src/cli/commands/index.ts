import type { Command } from 'commander';
import { commandCatalog, type CommandEntry } from './catalog.js';

export type { CommandEntry, RegisterCommand } from './catalog.js';

/** Every command; completion (which reads the others from the catalog) is listed last. */
export const catalog: CommandEntry[] = [
  ...commandCatalog,
  { name: 'completion', summary: 'Print a bash or zsh completion script', load: () => import('./completion.js') },
];

/** Registers the command named on the command line, or, for help and unknown names, every command's name and summary. */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const requested = argv.find((arg) => !arg.startsWith('-'));
  // The completion script's hidden helper (completion.ts), not listed in the help.
  const entry = catalog.find((c) => c.name === (requested === '__complete' ? 'completion' : requested));
  if (entry) {
    (await entry.load()).register(program);
    return;
  }
  if (requested === 'help') {
    const topic = catalog.find((c) => c.name === argv[argv.indexOf('help') + 1]);
    if (topic) {
      (await topic.load()).register(program);
      return;
    }
  }
  for (const c of catalog) program.command(c.name).description(c.summary);
}
