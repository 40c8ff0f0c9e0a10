/** Types of `unbzip2-stream`, which ships none: a duplex stream that decompresses bzip2. */
declare module 'unbzip2-stream' {
  function unbzip2Stream(): NodeJS.ReadWriteStream;
  export = unbzip2Stream;
}
