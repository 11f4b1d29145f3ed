#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (registered in-process), from any working directory.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
