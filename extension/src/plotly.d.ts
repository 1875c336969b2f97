// plotly.js-dist-min ships no type declarations; the renderer types the few functions it calls itself.
declare module 'plotly.js-dist-min';
