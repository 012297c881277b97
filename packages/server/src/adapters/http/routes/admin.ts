import type { FastifyInstance } from 'fastify';
import type { Hotline } from '../../../hotline.js';

export async function adminRoutes(_app: FastifyInstance, _hotline: Hotline): Promise<void> {}
