/** The hotline server's public API: embed it, test against it, or run it with `main`. */
export { buildApp, type HotlineApp } from './app.js';
export { ConfigError, DEFAULT_CONFIG, loadConfig, type ServerConfig } from './config.js';
export { createHotline, type Hotline, type HotlineOptions } from './hotline.js';
export { main } from './main.js';
export { DEMO_CLIENT, DEMO_INSTANCE_ID, seedDemo } from './seed.js';
export { type Clock, ManualClock, systemClock } from './services/clock.js';
