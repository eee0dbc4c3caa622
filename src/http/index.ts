export { type HttpAppOptions, type Readiness, buildHttpApp } from './app.js';
