import type { Command } from 'commander';
import { register as promote } from './promote.js';
import { register as validate } from './validate.js';
import { register as emulator } from './emulator.js';

/** Each command module registers itself on the program. One file per command in this folder. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [promote, validate, emulator];
