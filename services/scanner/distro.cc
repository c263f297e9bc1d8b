#include "services/scanner/distro.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace portunus::scanner {
namespace {

// "9.3" -> "9"; "3.18.4" -> "3.18" when `parts` is 2.
std::string Leading(absl::string_view version, int parts) {
  std::vector<absl::string_view> p = absl::StrSplit(version, '.');
  std::string out;
  for (int i = 0; i < parts && i < static_cast<int>(p.size()); ++i) {
    absl::StrAppend(&out, i ? "." : "", p[i]);
  }
  return out;
}

bool IsRpmDistro(absl::string_view d) {
  return d == "rocky" || d == "almalinux" || d == "rhel" || d == "centos" || d == "fedora" ||
         d == "ol" || d == "amzn" || d == "opensuse-leap" || d == "opensuse-tumbleweed" ||
         d == "sles" || d == "photon" || d == "mariner" || d == "azurelinux" || d == "openeuler";
}

}  // namespace

std::string DebianReleaseNumber(absl::string_view codename) {
  static constexpr std::pair<absl::string_view, absl::string_view> kReleases[] = {
      {"wheezy", "7"},  {"jessie", "8"}, {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"},
      {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"}, {"duke", "15"}, {"sid", "sid"},
  };
  for (const auto& [name, number] : kReleases) {
    if (codename == name) return std::string(number);
  }
  return "";
}

std::string EcosystemForOs(const OsRelease& os) {
  const std::string& id = os.id;
  if (id.empty()) return "";
  if (id == "debian") {
    std::string release = Leading(os.version_id, 1);
    if (release.empty()) release = DebianReleaseNumber(os.version_codename);
    if (release.empty()) {
      // Testing and unstable images say "Debian GNU/Linux trixie/sid".
      for (absl::string_view word : absl::StrSplit(os.pretty_name, absl::ByAnyChar(" /"))) {
        std::string n = DebianReleaseNumber(absl::AsciiStrToLower(word));
        if (!n.empty() && n != "sid") return "debian:" + n;
      }
      return "debian:sid";
    }
    return "debian:" + release;
  }
  if (id == "ubuntu") return "ubuntu:" + Leading(os.version_id, 2);
  if (id == "alpine") {
    // Edge images carry "3.19_alpha20231219".
    if (absl::StrContains(os.version_id, "_")) return "alpine:edge";
    return "alpine:" + Leading(os.version_id, 2);
  }
  if (id == "wolfi" || id == "chainguard") return id;
  if (id == "rocky" || id == "almalinux" || id == "rhel" || id == "centos" || id == "ol") {
    return absl::StrCat(id, ":", Leading(os.version_id, 1));
  }
  if (id == "sles" || id == "sled" || id == "sles_sap") return "sles:" + os.version_id;
  if (id == "opensuse-tumbleweed") return "opensuse-tumbleweed";
  if (os.version_id.empty()) return id;
  return absl::StrCat(id, ":", os.version_id);
}

std::string EcosystemForOsv(absl::string_view ecosystem) {
  std::vector<absl::string_view> parts = absl::StrSplit(ecosystem, ':');
  const std::string name = absl::AsciiStrToLower(parts[0]);
  const absl::string_view release = parts.size() > 1 ? parts[1] : absl::string_view();
  if (name == "debian") {
    if (release.empty()) return "";
    double unused;
    if (absl::SimpleAtod(release, &unused)) return absl::StrCat("debian:", Leading(release, 1));
    std::string n = DebianReleaseNumber(absl::AsciiStrToLower(release));
    return n.empty() ? "" : "debian:" + n;
  }
  if (name == "ubuntu") {
    if (release.empty() || release == "Pro") return "";  // Ubuntu Pro streams are not public images
    return absl::StrCat("ubuntu:", Leading(release, 2));
  }
  if (name == "alpine") {
    absl::string_view r = release;
    absl::ConsumePrefix(&r, "v");
    if (r.empty()) return "";
    return absl::StrCat("alpine:", r == "edge" ? "edge" : Leading(r, 2));
  }
  if (name == "rocky linux") return release.empty() ? "" : absl::StrCat("rocky:", Leading(release, 1));
  if (name == "almalinux") return release.empty() ? "" : absl::StrCat("almalinux:", Leading(release, 1));
  if (name == "red hat") {
    // "Red Hat:enterprise_linux:9::appstream"
    if (parts.size() < 3) return "";
    return absl::StrCat("rhel:", Leading(parts[2], 1));
  }
  if (name == "suse" || name == "opensuse") {
    // "SUSE:Linux Enterprise Server 15 SP5", "openSUSE:Leap 15.5", "openSUSE:Tumbleweed"
    std::vector<absl::string_view> words = absl::StrSplit(release, ' ', absl::SkipEmpty());
    if (name == "opensuse") {
      if (words.size() == 1 && words[0] == "Tumbleweed") return "opensuse-tumbleweed";
      if (words.size() == 2 && words[0] == "Leap") return absl::StrCat("opensuse-leap:", words[1]);
      return "";
    }
    if (absl::StartsWith(release, "Linux Enterprise Server ") && words.size() >= 4) {
      std::string v(words[3]);
      if (words.size() >= 5 && absl::StartsWith(words[4], "SP")) {
        absl::StrAppend(&v, ".", words[4].substr(2));
      } else {
        absl::StrAppend(&v, ".0");
      }
      return "sles:" + v;
    }
    return "";
  }
  if (name == "photon os") return release.empty() ? "" : absl::StrCat("photon:", release);
  if (name == "mariner" || name == "cbl-mariner") return release.empty() ? "" : absl::StrCat("mariner:", release);
  if (name == "azure linux") return release.empty() ? "" : absl::StrCat("azurelinux:", release);
  if (name == "wolfi" || name == "chainguard") return name;
  if (name == "openeuler") return release.empty() ? "" : absl::StrCat("openeuler:", release);
  if (name == "amazon linux") return release.empty() ? "" : absl::StrCat("amzn:", release);
  return absl::AsciiStrToLower(ecosystem);  // language ecosystems: "npm", "pypi", "go", ...
}

VersionScheme SchemeForEcosystem(absl::string_view key, VersionScheme fallback) {
  const absl::string_view distro = key.substr(0, key.find(':'));
  if (distro == "debian" || distro == "ubuntu") return VersionScheme::kDpkg;
  if (distro == "alpine" || distro == "wolfi" || distro == "chainguard") return VersionScheme::kApk;
  if (IsRpmDistro(distro)) return VersionScheme::kRpm;
  return fallback;
}

}  // namespace portunus::scanner
