// The dreaming suite on WebGPU (a software Vulkan adapter in CI; TEXTDREAM_REQUIRE_WEBGPU=1 makes its absence fail).
import { describe } from 'vitest';
import { webgpuAvailable } from './helpers/backends.js';
import { dreamSuite } from './helpers/dreamSuite.js';

const gpu = await webgpuAvailable();
describe.skipIf(!gpu.ok)(`dreaming on webgpu (${gpu.why})`, () => dreamSuite('webgpu'));
