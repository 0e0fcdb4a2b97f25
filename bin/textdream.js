#!/usr/bin/env node
// Launcher: runs the TypeScript CLI straight from src-main/ through tsx, so a clean checkout needs no build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Use the project's tsconfig, never one that happens to sit in the caller's working directory.
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
register({ tsconfig: existsSync(tsconfig) ? tsconfig : false });

const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
