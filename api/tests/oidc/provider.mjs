// An OpenID Connect provider on loopback for the sign-in tests. It prints one JSON line,
// {"issuer": ..., "control": ...}; the control port takes:
//   POST /claims  {...}  claims merged into every token from now on (aud, nonce, exp, email…)
//   POST /rotate         sign with a new key from now on
import http from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
let claims = { email: 'ann@example.com', email_verified: true, name: 'Ann Example' };
let rotated = false;

server.service.on('beforeTokenSigning', (token) => {
  Object.assign(token.payload, claims);
});

await server.start(0, '127.0.0.1');

const control = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (req.url === '/claims') {
    claims = { ...claims, ...JSON.parse(body || '{}') };
  } else if (req.url === '/rotate' && !rotated) {
    // Keys take turns per token and each answer signs its access token first, so with a
    // second key every ID token is signed by the new one.
    await server.issuer.keys.generate('RS256');
    rotated = true;
  }
  res.end('ok');
});
control.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    JSON.stringify({ issuer: server.issuer.url, control: `http://127.0.0.1:${control.address().port}` }) + '\n',
  );
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
