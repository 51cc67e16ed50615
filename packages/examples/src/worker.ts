/** A worker thread of `zepoll-examples --workers n`: runs the example on the shared port. */
import { workerSetup } from 'zepoll';
import type { ExampleOptions } from './options.js';
import { startExample } from './run.js';

const setup = workerSetup();
const options = { ...(setup.data as ExampleOptions), port: setup.port };
const running = startExample(options, true);
setup.ready(() => running.close());
