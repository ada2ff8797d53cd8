import type { CommandSpec } from './types.js';

export const expireCommands: CommandSpec[] = [];
