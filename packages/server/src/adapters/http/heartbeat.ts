import type { WebSocket } from 'ws';

/**
 * Protocol pings on a socket whose peer only listens (a wallboard screen, a web caller): a peer that has not
 * answered the previous ping by the next one is cut off (browsers answer pings by themselves), so one whose network
 * died does not keep its socket and send buffer until TCP gives up minutes later. Stops with the socket.
 */
export function cutOffWhenSilent(socket: WebSocket, intervalMs: number): void {
  let answered = true;
  socket.on('pong', () => {
    answered = true;
  });
  const heartbeat = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    if (socket.readyState === socket.OPEN) socket.ping();
  }, intervalMs);
  heartbeat.unref();
  socket.once('close', () => clearInterval(heartbeat));
}
