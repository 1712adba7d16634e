/**
 * The host functions (docs/program.md §5): the list as data, and what a host step does to program
 * variables. The simulator and the generated C driver implement exactly this list.
 */
export {
  hostStepProblems,
  parseVariable,
  setsVariable,
  variableEffects,
  variablesRead,
  variablesSet,
} from "./effects.js";
export {
  HOST_FUNCTIONS,
  type HostAttrSpec,
  type HostAttrType,
  type HostCost,
  type HostFnSpec,
  type HostOperandSpec,
  hostFunction,
} from "./table.js";
