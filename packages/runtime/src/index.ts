// Public API of @asap/runtime. Each area adds its exports in its own block.

// errors
export {
  ActorCrashedError,
  ActorSpawnError,
  ActorStoppedError,
  ArenaExhaustedError,
  ChannelClosedError,
  DeviceMemoryExceededError,
  KernelUnsupportedError,
  MessageTooLargeError,
} from './errors.ts';

// deterministic randomness
export { SeededRandom } from './random/seeded-random.ts';

// tensors
export {
  type DType,
  bf16ToF32,
  bytesPerElement,
  decodeToF32,
  encodeFromF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  isDType,
} from './tensor/dtype.ts';
export { Tensor, type TensorData, type TensorDescriptor } from './tensor/tensor.ts';
export { type AllocOptions, type AllocRequest, Arena, type ArenaOptions } from './tensor/arena.ts';
export { Scratch } from './tensor/scratch.ts';

// kernels
export type {
  AttentionOptions,
  Backend,
  BackendCapabilities,
  BackendName,
  BackendOptions,
  OpName,
  RopeOptions,
  RouterChoice,
  RouterOptions,
} from './kernels/backend.ts';
export { availableBackends, createBackend, defaultBackend, unavailableBackends } from './kernels/registry.ts';
export { backendTensor, releaseBackendTensor } from './kernels/common/memory.ts';
export { WasmBackend } from './kernels/wasm/backend.ts';
export { NativeBackend, type NativeBackendOptions } from './kernels/native/backend.ts';
export type { NativeIsa } from './kernels/native/addon.ts';
export { CudaBackend } from './kernels/cuda/backend.ts';
export { cudaUnavailableReason } from './kernels/cuda/addon.ts';

// channels
export type { ChannelMessage, ChannelReceiver, ChannelSender } from './channel/message.ts';
export { type RingDescriptor, abortRing, createRing } from './channel/ring.ts';
export type { RingEndOptions } from './channel/doorbell.ts';
export { type RingSenderOptions, ringSender } from './channel/sender.ts';
export { type LeasingRingReceiver, type RingChannelReceiver, type RingReceiverOptions, ringReceiver } from './channel/receiver.ts';
export type { LeasedMessage } from './channel/lease.ts';
export { anyRank, rankBarrier } from './channel/combinators.ts';

// actors and hosts
export { type ActorId, DRIVER } from './actor/ids.ts';
export type { ActorContext, Device, DeviceOp, Envelope, HostKind, Timer } from './actor/context.ts';
export {
  type ActorBehaviour,
  type ActorDefinition,
  type ActorSetup,
  defineActor,
} from './actor/definition.ts';
export type { ActorStats } from './actor/runner.ts';
export type { ActorEvent, ActorSpec, Host, HostOptions } from './host/host.ts';
export { type ThreadsHostOptions, startThreadsHost } from './host/threads/host.ts';
export { builtModule } from './host/threads/worker-entry.ts';
export { type SimHost, type SimHostOptions, startSimHost } from './host/sim/host.ts';
export { DEFAULT_LINK, type LinkProfile } from './host/sim/link.ts';
export { DEFAULT_DEVICE_COST, type DeviceCost, type OpRates, type RooflineProfile, rooflineCost, rooflineMs } from './host/sim/device.ts';

// hardware profiles for the sim host
export type { DeviceHardware, HardwareProfile, LinkHardware, OpEfficiency, WakeCost } from './host/sim/profiles/hardware-profile.ts';
export { HardwareProfileError, checkHardwareProfile } from './host/sim/profiles/check-profile.ts';
export { HARDWARE_PROFILES, hardwareProfile } from './host/sim/profiles/hardware-profiles.ts';
export { simCosts } from './host/sim/profiles/sim-costs.ts';
