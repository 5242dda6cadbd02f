// The reader worker's loader (instead of trunk's shim, which only loads the
// wasm). Messages that arrive before the wasm has started are kept for it
// (`worker.rs` takes them). A worker that `www/index.html` starts to open a
// file (its `name` is `{"open": URL, "saved": bool}`) also starts, before its
// wasm loads, the probe of that file: with pages saved (the app's hint in
// `localStorage`) one byte and, beside it, the lookup of those pages (Cache
// Storage, the key `meta_cache.rs` uses); else the first and last 256 KiB
// at once. The answers
// come to `worker.rs` as a message `{earlyOpen: {url, answers, saved}}`; it
// checks them (as the app's probe would) and opens the file.
'use strict';
self.neurosiftEarly = { events: [] };
self.onmessage = (e) => self.neurosiftEarly.events.push(e);
(() => {
    const mark = (name) => { try { performance.mark(name); } catch (e) { /* none */ } };
    const CACHE = 'neurosift-metadata-v1';
    const keyOf = (url) => 'https://neurosift.invalid/metadata?url=' + encodeURIComponent(url);
    // Pages saved for `url` (called by worker.rs after an early open): the
    // Response is made now (it copies the bytes), stored later.
    self.neurosiftSavePages = (url, size, validator, pages) => {
        if (!self.caches) return;
        const response = new Response(pages, { headers: { 'x-size': String(size), 'x-validator': validator } });
        caches.open(CACHE).then((c) => c.put(keyOf(url), response)).then(() => mark('w-pages-saved'), () => {});
    };
    self.neurosiftDropSaved = (url) => {
        if (self.caches) caches.open(CACHE).then((c) => c.delete(keyOf(url))).catch(() => {});
    };
    let asked = null;
    try { asked = JSON.parse(self.name || 'null'); } catch (e) { /* not ours */ }
    if (!asked || typeof asked.open !== 'string' || !/^https?:[/][/]/.test(asked.open)) return;
    const url = asked.open;
    const get = (range) => fetch(url, { headers: { Range: range }, cache: 'no-store' }).then(async (r) => {
        const h = (name) => r.headers.get(name);
        const answer = {
            status: r.status, contentRange: h('content-range'), contentLength: h('content-length'),
            etag: h('etag'), lastModified: h('last-modified'), body: null,
        };
        // Only a partial answer's body is read: never a whole file.
        if (r.status === 206) answer.body = await r.arrayBuffer();
        else if (r.body) r.body.cancel().catch(() => {});
        return answer;
    }).catch((e) => ({ error: String(e && e.message || e) }));
    mark('w-probe-sent');
    const answers = Promise.all((asked.saved ? ['bytes=0-0'] : ['bytes=0-262143', 'bytes=-262144']).map(get));
    // Looked up only when the app's hint says pages were saved: on a fresh
    // profile opening Cache Storage alone took longer than the probe.
    const saved = (self.caches && asked.saved ? caches.open(CACHE).then((c) => c.match(keyOf(url))) : Promise.resolve(undefined))
        .then(async (r) => r ? { size: r.headers.get('x-size'), validator: r.headers.get('x-validator'), pages: await r.arrayBuffer() } : null)
        .catch(() => null)
        .then((s) => { mark('w-saved-looked-up'); return s; });
    Promise.all([answers, saved]).then(([answers, saved]) => {
        mark('w-probe-done');
        self.dispatchEvent(new MessageEvent('message', { data: { earlyOpen: { url, answers, saved } } }));
    });
})();
importScripts('./worker.js');
wasm_bindgen('./worker_bg.wasm');
