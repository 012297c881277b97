/**
 * Where the floating bar (isPlugin) sits: dragged by its grip or moved with the arrow keys, remembered in
 * localStorage so it comes back where the agent left it, and always kept inside the window.
 */

export interface Point {
  readonly left: number;
  readonly top: number;
}

export const POSITION_KEY = 'openhotline.dialbar.position';
/** How much of the bar must stay on screen (the grip included), so it can always be dragged back. */
const MARGIN = 8;

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Keeps a bar of this size inside a viewport of that size. */
export function clampPoint(
  point: Point,
  size: { width: number; height: number },
  viewport: { width: number; height: number },
): Point {
  const maxLeft = Math.max(MARGIN, viewport.width - size.width - MARGIN);
  const maxTop = Math.max(MARGIN, viewport.height - size.height - MARGIN);
  return {
    left: Math.round(Math.min(Math.max(point.left, MARGIN), maxLeft)),
    top: Math.round(Math.min(Math.max(point.top, MARGIN), maxTop)),
  };
}

export function loadPoint(storage: StorageLike | undefined): Point | undefined {
  try {
    const raw = storage?.getItem(POSITION_KEY);
    if (!raw) return undefined;
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const { left, top } = value as Record<string, unknown>;
    return typeof left === 'number' && typeof top === 'number' && Number.isFinite(left) && Number.isFinite(top)
      ? { left, top }
      : undefined;
  } catch {
    // Storage blocked (privacy settings, sandboxed iframe) or a value from something else: start at the default.
    return undefined;
  }
}

export function savePoint(storage: StorageLike | undefined, point: Point): void {
  try {
    storage?.setItem(POSITION_KEY, JSON.stringify(point));
  } catch {
    // Storage blocked: the bar still moves, it just will not remember.
  }
}

/** The step of one arrow-key press: 10 px, 50 px with Shift. */
export function keyStep(key: string, shift: boolean): Point | undefined {
  const step = shift ? 50 : 10;
  switch (key) {
    case 'ArrowLeft':
      return { left: -step, top: 0 };
    case 'ArrowRight':
      return { left: step, top: 0 };
    case 'ArrowUp':
      return { left: 0, top: -step };
    case 'ArrowDown':
      return { left: 0, top: step };
    default:
      return undefined;
  }
}
