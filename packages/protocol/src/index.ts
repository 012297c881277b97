export * from './calls.js';
export * from './channel.js';
export * from './descriptions.js';
export * from './enums.js';
export * from './errors.js';
export * from './hotline-message.js';
export * from './http.js';
