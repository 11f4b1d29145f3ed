#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (registered in-process), from any working directory.
import { register } from 'tsx/esm/api';

// `medvox dump ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
