#include "tftp/embedded_menu.h"

#include "absl/strings/str_replace.h"

namespace tftp {
namespace {

// iPXE script syntax: https://ipxe.org/scripting. `${...}` are iPXE
// settings, expanded on the client; iPXE has no escape for a literal one, so
// the help text spells it out. Local boot: BIOS iPXE can `sanboot` the
// first hard disk; UEFI has no INT 13h drive 0x80, so there `exit` hands
// control back to the firmware, which tries its next boot option.
constexpr char kMenu[] = R"(#!ipxe
# Built into pxeproxy @VERSION@. It is served because pxeproxy runs without
# --menu_url; point that flag at your own script to replace this menu.

:start
menu pxeproxy @VERSION@: network boot works (no --menu_url set)
item --gap --  This machine reached pxeproxy's built-in menu.
item --gap --  To boot your own menu, run pxeproxy with
item --gap --    --menu_url=http://YOUR-SERVER/menu.ipxe
item --gap --  (the URL may use iPXE settings: a dollar sign, then {net0/mac}).
item --gap
item --key l local    Boot from the local disk
item --key s shell    iPXE shell
item --key d details  Show this machine's details
item --key r reboot   Reboot
choose --default local --timeout 30000 target || goto local
goto ${target}

:local
echo Booting from the local disk...
iseq ${platform} efi && exit 0 ||
sanboot --no-describe --drive 0x80 || exit 0

:shell
echo Type 'exit' to come back to the menu.
shell
goto start

:details
echo
echo MAC address    ${net0/mac}
echo IP address     ${ip} / ${netmask} via ${gateway}
echo DHCP server    ${dhcp-server}
echo Next server    ${next-server}   boot file ${filename}
echo Architecture   ${buildarch} (${platform})
echo Manufacturer   ${manufacturer}   product ${product}
echo Serial         ${serial}   UUID ${uuid}
echo iPXE version   ${version}
echo
prompt Press any key to return to the menu...
goto start

:reboot
reboot
)";

}  // namespace

std::string EmbeddedMenu(absl::string_view version) {
  return absl::StrReplaceAll(kMenu, {{"@VERSION@", version}});
}

}  // namespace tftp
