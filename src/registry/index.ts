export {
  type BundleListing,
  type RegistryFile,
  type ResolvedModel,
  listBundles,
  parseModelRef,
  promote,
  readRegistry,
  resolveModelRef,
} from './registry.js';
export { type ManagerObserver, ModelManager, type ModelRefs, type ReloadReport, type ResolvedRouting, loadReadyBundle, resolveRouting } from './manager.js';
export { type ModelSource, type ModelSourceOptions, RegistrySource, modelSource } from './source.js';
