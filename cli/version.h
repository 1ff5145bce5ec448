// The CLI's version, printed by `flotilla version` and sent as the gRPC user agent.
#pragma once

namespace flotilla::cli {

#ifdef FLOTILLA_VERSION
inline constexpr char kCliVersion[] = FLOTILLA_VERSION;
#else
inline constexpr char kCliVersion[] = "0.1.0";
#endif

}  // namespace flotilla::cli
