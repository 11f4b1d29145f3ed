const { run } = await import(process.argv[2]);
await run(['node', 'medvox', ...process.argv.slice(3)]);
