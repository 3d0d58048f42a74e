// What a modelled cluster is made of: one device kind and one link kind, each as published figures times
// the fraction of them real kernels and transports reach. The sim host's costs are derived from it
// (`simCosts`); the built-in profiles and a calibrated JSON file share this shape.

/** Achievable fractions (and launch cost) of one op kind, overriding the device's defaults. */
export interface OpEfficiency {
  /** Fraction of peak FLOP/s this op reaches, (0, 1] for real hardware (a calibration may exceed 1 only by error). */
  readonly compute?: number;
  /** Fraction of memory bandwidth this op reaches. */
  readonly memory?: number;
  /** Fraction of peak FLOP/s the op's context FLOPs reach (`DeviceOp.contextFlops`; default: `compute`'s). */
  readonly context?: number;
  /** Fixed cost per op (launch, dispatch, the host code around it), µs. */
  readonly overheadUs?: number;
}

export interface DeviceHardware {
  /** Peak dense FLOP/s of one device (one rank). */
  readonly peakFlopsPerS: number;
  /** Memory bandwidth of one device, bytes/s. */
  readonly memoryBytesPerS: number;
  /** Fraction of peak FLOP/s an op reaches unless `ops` says otherwise. */
  readonly computeEfficiency: number;
  /** Fraction of memory bandwidth an op reaches unless `ops` says otherwise. */
  readonly memoryEfficiency: number;
  /** Fixed cost per op unless `ops` says otherwise, µs. */
  readonly overheadUs: number;
  /**
   * Per op name, as the ranks name their device ops: 'attention', 'expert', 'experts', 'combine', 'embed',
   * 'lm-head' (see @asap/actors op costs). Names not listed use the defaults above.
   */
  readonly ops?: Readonly<Record<string, OpEfficiency>>;
  /** What an op pays for the device's idle time before it (absent: nothing). */
  readonly wake?: WakeCost;
}

/**
 * A machine that sat idle runs its next op slower: caches went cold and, on a shared VM, its cores went to
 * other work. An op that starts after every device sat idle for `idle` ms costs `us × (1 − e^(−idle / tauMs))`
 * more; one rank waiting while another computes pays nothing. Only for a profile of one machine (`local`):
 * a dedicated accelerator has none; this machine's VM pays milliseconds after a pause.
 */
export interface WakeCost {
  readonly us: number;
  readonly tauMs: number;
}

export interface LinkHardware {
  /** One-way latency of a message, µs (wire, switch and the software on both ends). */
  readonly latencyUs: number;
  /** Unidirectional bandwidth per device, bytes/s. */
  readonly bytesPerS: number;
  /** Fraction of that bandwidth a transfer reaches. */
  readonly efficiency: number;
}

export interface HardwareProfile {
  /** Short name, e.g. 'h200' or 'local'. */
  readonly name: string;
  /** What it models, in words. */
  readonly models: string;
  readonly device: DeviceHardware;
  readonly link: LinkHardware;
  /** What the figures were fitted from (a calibration's raw measurements); not used by the cost model. */
  readonly measured?: Readonly<Record<string, unknown>>;
}
