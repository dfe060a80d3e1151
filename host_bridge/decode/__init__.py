"""Host decoding: image loading, decode engines (zxing-cpp, zbar, cascade) and the symbols they return."""
