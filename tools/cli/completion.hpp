#pragma once

// Shell completion scripts for the evstore tool, written from its own command-line model (CLI11's
// App), so they name exactly the subcommands and options the tool takes: `evstore completion bash`
// and `evstore completion zsh`, as kubectl does. Task ids complete from `evstore tasks`.

#include <string>

#include <CLI/CLI.hpp>

namespace evstore::cli {

/// A bash script that registers completion for `evstore` (complete -F).
std::string bash_completion(const CLI::App& app);

/// A zsh completion function (#compdef evstore) for a file named _evstore on $fpath.
std::string zsh_completion(const CLI::App& app);

} // namespace evstore::cli
