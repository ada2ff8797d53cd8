/** The simulator's virtual runtime: one scheduler, one network, and per node a clock, timer, bus and disk. */
export { Scheduler, SIM_EPOCH_MS, settleMicrotasks, type ScheduledEvent, type SchedulerOptions } from './scheduler.js';
export { SimClock, type SimClockOptions } from './sim-clock.js';
export { SimTimer, SimTimerHandle } from './sim-timer.js';
export {
  SimNetwork,
  NO_NETWORK_FAULTS,
  type NetworkFaults,
  type NetworkCounters,
  type NetworkDisruption,
  type NetworkTraceEvent,
  type SimNetworkOptions,
  type DropReason,
} from './network.js';
export { SimBus, SimLink, SimBusServer } from './sim-bus.js';
export {
  drawFaultPlan,
  FaultInjector,
  type FaultPlan,
  type FaultEvent,
  type FaultCounters,
  type FaultInjectorOptions,
} from './faults.js';
export { simRuntime, SimTransport, type SimRuntime, type SimRuntimeOptions } from './sim-runtime.js';
export { MemDisk } from './mem-disk.js';
export { deriveSeed, seededRandom } from './seed.js';
export { type CrashKind, type CrashLoss } from './mem-disk.js';
export { countCrash, drawCrashKind, drawDiskPlan, emptyDiskCounters, type DiskCounters, type DiskPlan } from './disk-faults.js';
