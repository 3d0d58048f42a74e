// Public API of @asap/runtime. Each area adds its exports in its own block.

// tensors
export * from './tensor/dtype.ts';
export { Tensor, type TensorData, type TensorDescriptor } from './tensor/tensor.ts';
export { Arena, ArenaExhaustedError, type ArenaOptions } from './tensor/arena.ts';

// kernels
export type {
  AttentionOptions,
  Backend,
  BackendCapabilities,
  BackendName,
  OpName,
  RopeOptions,
  RouterChoice,
  RouterOptions,
} from './kernels/backend.ts';

// channels
export type { ChannelMessage, ChannelReceiver, ChannelSender } from './channel/message.ts';

// actors and hosts
