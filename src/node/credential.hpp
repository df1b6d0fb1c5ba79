#pragma once

// A store's node credential: one PEM file, <root>/node.pem, holding a private key and a certificate
// for it that signs itself. A node presents it and trusts nothing else, and so does every client:
// TLS with peer verification on both sides (CAF's OpenSSL module) then admits exactly the processes
// that can read this file. It is created mode 0600 with the store's first serve, so "may connect"
// is "may read what only the store's owner may read".

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "src/storage/store_files.hpp"

namespace evstore {

constexpr const char* credential_file_name = "node.pem";
constexpr const char* credential_temp_file_name = "node.pem.tmp";

/// Creates <root>/node.pem if there is none: a new P-256 key and a self-signed certificate (CA:TRUE,
/// so OpenSSL accepts it as its own trust anchor) written to node.pem.tmp of mode 0600, fsynced and
/// linked into place (never over a credential already there).
caf::error ensure_credential(const store_root& root);

/// Refuses a credential file (errc::bad_credential, errc::not_regular_file) that is a symbolic link
/// or not a regular file, that group or others may read or write (as ssh refuses a private key), or
/// that does not hold a private key and a certificate of that key. CAF's OpenSSL module opens the
/// file by path when it builds a TLS context and throws on a bad one, inside its middleman; checked
/// here first, nothing bad reaches it.
caf::error check_credential(const std::string& path);

/// check_credential, and the file's text if it passes.
caf::expected<std::string> read_credential(const std::string& path);

/// A checked credential's bytes copied into a sealed memory file (memfd, kept open for the life of
/// the process, one per distinct credential); returns its /proc/self/fd path. CAF's OpenSSL module reopens its credential by path
/// for every connection and throws on its multiplexer thread, ending the process, if the file has
/// become bad; a sealed copy cannot change, move or be swapped for a symbolic link.
caf::expected<std::string> sealed_credential_copy(const std::string& path);

} // namespace evstore
