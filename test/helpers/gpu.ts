/**
 * A Dawn WebGPU device on the test's own thread (tests may await reads), for the in-process
 * WGSL tests. Prints the adapter the tests run on, or one line saying why they skip.
 */
import { after } from 'node:test';

/** Dawn's instance: it must stay reachable while its devices live (collected, it takes them down: a segfault). */
let gpu: GPU | undefined;

/** The device (undefined without an adapter) and the `skip` option for node:test. `what` names the tests in the lines printed. */
export async function openTestDevice(what: string): Promise<{ device: GPUDevice | undefined; skip: string | false }> {
  if (!process.env['XDG_RUNTIME_DIR']) process.env['XDG_RUNTIME_DIR'] = (await import('node:os')).tmpdir();
  let device: GPUDevice | undefined;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (adapter) {
      console.log(`${what} run on: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.device} (${adapter.info.description})`);
      device = await adapter.requestDevice();
    }
  } catch {
    device = undefined;
  }
  const skip = device ? false : 'no WebGPU adapter on this machine (install a Vulkan driver, or Mesa lavapipe for testing)';
  if (!device) console.log(`${what} skipped: ${skip}`);
  after(() => {
    device?.destroy();
    gpu = undefined;
  });
  return { device, skip };
}
