/**
 * A `worker_threads` entry that serves gpu.js kernels (`serveGpuDevice`) on the port it is given
 * (`workerData.port`): the device server of remote.test.ts. Bundled by that test with esbuild (gpu.js external).
 */
import { workerData } from 'node:worker_threads';
import { serveGpuDevice } from '@ecgnn/gpu';

const server = serveGpuDevice(workerData.port);
void server.closed;
