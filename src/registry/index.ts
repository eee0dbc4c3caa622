export { type RegistryFile, type ResolvedModel, parseModelRef, readRegistry, resolveModelRef } from './registry.js';
