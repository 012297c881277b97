/**
 * The media engine module: what the call service and the live channel use. Everything else in this folder is
 * internal. docs/media.md explains the design and how to wire it.
 */
export { DEFAULT_RINGBACK, MUSIC_ON_HOLD_NOTES_HZ, type RingbackTone } from './audio-sources.js';
export { AUDIO_CODECS, type AudioCodecName, DEFAULT_LINE_CODECS } from './codec.js';
export { FRAME_MS, FRAME_SAMPLES, type MediaClock, realtimeMediaClock } from './media-clock.js';
export * from './media-engine.js';
export { readWavAs8kMono } from './wav.js';
export { createWeriftMediaEngine, type WeriftMediaEngineOptions } from './werift-engine.js';
