import type { CommandSpec } from './types.js';

export const bitCommands: CommandSpec[] = [];
