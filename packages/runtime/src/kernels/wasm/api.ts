// The slice of the WebAssembly JS API the backend uses. Node has it at run time, but this project's
// TypeScript libs (ES2023 + @types/node 20, no DOM) do not declare it, so it is typed here.

export interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
}

export interface CompiledModule {
  readonly compiled: unknown;
}

export interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedMemory;
  Module: new (bytes: Uint8Array) => CompiledModule;
  Instance: new (module: CompiledModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
