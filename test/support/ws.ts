/** Opens a WebSocket, sends one message and resolves with the first reply. */
import WebSocket from 'ws';

export async function wsRoundTrip(url: string, headers: Record<string, string>, message: string): Promise<string> {
  const ws = new WebSocket(url, { headers });
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send(message));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
  } finally {
    ws.close();
  }
}
