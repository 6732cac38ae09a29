#!/usr/bin/env node
// `npm create tsbpf` looks for a package named create-tsbpf. The scaffolder lives in tsbpf
// itself (so `tsbpf create` and this stay one code path); this package only starts it.
import 'tsbpf/create';
