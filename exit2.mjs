const t0 = performance.now();
process.on('exit', () => console.log('no-fetch exit at', (performance.now()-t0).toFixed(0)));
