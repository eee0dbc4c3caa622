export { main } from './main.js';
export { readPackageVersion } from './version.js';
