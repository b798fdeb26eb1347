// Prints org.tcmuswitch.Device1's introspection XML, made from the same
// method table the handler dispatches with, for the package to install.
#include <cstdio>

#include "device_object.h"

int main() {
  std::fputs(tcmu_switch::control::DeviceObject::introspection_xml().c_str(), stdout);
  return 0;
}
