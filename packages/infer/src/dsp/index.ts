// Dependency-free signal processing shared by @ecgnn/infer (streaming classifier) and @ecgnn/data.
export {};
