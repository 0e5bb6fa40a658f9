// Preloaded (node --import) into the Portkey gateway used for the streaming
// case only.  Portkey 1.15.2 on Node 20 fails every stream with
// "TypeError: immutable" (Portkey-AI/gateway#1550, #1389): it wraps the
// upstream fetch() Response, whose headers are immutable, and then appends
// its x-portkey-* headers to them.  Its proposed fix (PR #1551) copies the
// response; this does the same one step earlier, by handing Portkey
// responses with mutable headers.  Nothing else changes.
const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
    const r = await upstreamFetch(...args);
    return new Response(r.body, {
        status: r.status,
        statusText: r.statusText,
        headers: new Headers(r.headers),
    });
};
