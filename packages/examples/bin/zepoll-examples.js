#!/usr/bin/env node
// The `zepoll-examples` command. A committed file (npm links bins at install
// time, before `npm run build` has compiled dist/), that runs the CLI.
import '../dist/cli.js';
