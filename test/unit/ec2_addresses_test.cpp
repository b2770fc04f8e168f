// The EC2 calls and answers of Elastic IPs and secondary private IPs: the
// form bodies EC2 receives (parameter names of botocore's model), ids and
// addresses refused before anything is sent, and the answers read from
// documents shaped as the EC2 API Reference's examples (re-typed, with the
// documentation's example ids) and from hostile ones.
#include <gtest/gtest.h>

#include <string>

#include "core/ec2_addresses.hpp"
#include "core/error.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

const char *kNs = R"( xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")";

std::string response(const std::string &root, const std::string &inner) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + root + kNs +
         ">\n  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n" + inner + "</" + root + ">";
}

// Two Elastic IPs, one associated with an interface and tagged with a
// fence, one free.
const std::string kDescribeAddresses = response("DescribeAddressesResponse", R"(  <addressesSet>
    <item>
      <publicIp>203.0.113.41</publicIp>
      <allocationId>eipalloc-08229861</allocationId>
      <domain>vpc</domain>
      <instanceId>i-0598c7d356eba48d7</instanceId>
      <associationId>eipassoc-f0229899</associationId>
      <networkInterfaceId>eni-ef229886</networkInterfaceId>
      <networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId>
      <privateIpAddress>10.0.0.228</privateIpAddress>
      <tagSet>
        <item><key>pg_vip:10.0.99.10/32:tl3</key><value>tl=3;sysid=7;id=ab;at=1700000000;node=db1</value></item>
        <item><key>Name</key><value>db-vip</value></item>
      </tagSet>
      <publicIpv4Pool>amazon</publicIpv4Pool>
      <networkBorderGroup>eu-west-1</networkBorderGroup>
    </item>
    <item>
      <publicIp>198.51.100.7</publicIp>
      <allocationId>eipalloc-0123456789abcdef0</allocationId>
      <domain>vpc</domain>
      <publicIpv4Pool>amazon</publicIpv4Pool>
      <networkBorderGroup>eu-west-1</networkBorderGroup>
    </item>
  </addressesSet>
)");

// One interface with a primary and two secondary addresses, one of them with
// an Elastic IP on it; a second, detached interface with only its primary.
const std::string kDescribeInterfaces = response("DescribeNetworkInterfacesResponse", R"(  <networkInterfaceSet>
    <item>
      <networkInterfaceId>eni-0f7db66c34c4b0a1c</networkInterfaceId>
      <subnetId>subnet-0a1b2c3d</subnetId>
      <vpcId>vpc-0a1b2c3d</vpcId>
      <availabilityZone>eu-west-1a</availabilityZone>
      <ownerId>123456789012</ownerId>
      <requesterManaged>false</requesterManaged>
      <status>in-use</status>
      <macAddress>02:74:b0:72:79:61</macAddress>
      <privateIpAddress>10.0.1.10</privateIpAddress>
      <sourceDestCheck>true</sourceDestCheck>
      <attachment>
        <attachmentId>eni-attach-0b3d8b2f</attachmentId>
        <instanceId>i-0598c7d356eba48d7</instanceId>
        <deviceIndex>0</deviceIndex>
        <status>attached</status>
      </attachment>
      <tagSet>
        <item><key>pg_vip:10.0.1.50/32:tl2</key><value>tl=2</value></item>
      </tagSet>
      <privateIpAddressesSet>
        <item>
          <privateIpAddress>10.0.1.10</privateIpAddress>
          <primary>true</primary>
        </item>
        <item>
          <privateIpAddress>10.0.1.50</privateIpAddress>
          <primary>false</primary>
          <association>
            <publicIp>203.0.113.41</publicIp>
            <ipOwnerId>123456789012</ipOwnerId>
            <allocationId>eipalloc-08229861</allocationId>
            <associationId>eipassoc-f0229899</associationId>
          </association>
        </item>
        <item>
          <privateIpAddress>10.0.1.51</privateIpAddress>
          <primary>false</primary>
        </item>
      </privateIpAddressesSet>
      <ipv6AddressesSet/>
      <interfaceType>interface</interfaceType>
    </item>
    <item>
      <networkInterfaceId>eni-12345678</networkInterfaceId>
      <status>available</status>
      <privateIpAddressesSet>
        <item><privateIpAddress>10.0.2.20</privateIpAddress><primary>true</primary></item>
      </privateIpAddressesSet>
    </item>
  </networkInterfaceSet>
)");

// What a parser refuses `body` with: the message of its Malformed failure,
// or "" when it reads it.
template <typename Parse>
std::string refusal(Parse parse, const std::string &body) {
  try {
    (void) parse(body);
    return "";
  } catch (const AwsFailure &f) {
    EXPECT_EQ(f.error().kind, ErrorKind::Malformed);
    EXPECT_EQ(f.error().code, "MalformedResponse");
    return f.error().message.empty() ? "?" : f.error().message;
  }
}

// The message of the ConfigError `build` throws, or "" when it builds.
template <typename Build>
std::string build_refusal(Build build) {
  try {
    (void) build();
    return "";
  } catch (const ConfigError &e) {
    return e.what();
  }
}

}  // namespace

TEST(Ec2AddressCalls, AssociateAddressTakesTheAddressWhereverItIs) {
  EXPECT_EQ(form_body(associate_address("eipalloc-08229861", "eni-0f7db66c34c4b0a1c")),
            "Action=AssociateAddress&Version=2016-11-15&AllocationId=eipalloc-08229861&AllowReassociation=true"
            "&NetworkInterfaceId=eni-0f7db66c34c4b0a1c");
  EXPECT_EQ(form_body(associate_address("eipalloc-08229861", "eni-0f7db66c34c4b0a1c", "10.0.1.50")),
            "Action=AssociateAddress&Version=2016-11-15&AllocationId=eipalloc-08229861&AllowReassociation=true"
            "&NetworkInterfaceId=eni-0f7db66c34c4b0a1c&PrivateIpAddress=10.0.1.50");
  // A dry run proves the permission as for the route tables' calls.
  EXPECT_EQ(form_body(with_dry_run(associate_address("eipalloc-08229861", "eni-12345678"))),
            "Action=AssociateAddress&Version=2016-11-15&AllocationId=eipalloc-08229861&AllowReassociation=true"
            "&NetworkInterfaceId=eni-12345678&DryRun=true");
}

TEST(Ec2AddressCalls, DescribeAddressesAsksForAllInOneRequest) {
  EXPECT_EQ(form_body(describe_addresses({"eipalloc-08229861", "eipalloc-0123456789abcdef0"})),
            "Action=DescribeAddresses&Version=2016-11-15&AllocationId.1=eipalloc-08229861"
            "&AllocationId.2=eipalloc-0123456789abcdef0");
  // None would describe every address of the account.
  EXPECT_EQ(build_refusal([] { return describe_addresses({}); }), "no Elastic IP to describe");
  EXPECT_EQ(build_refusal([] {
              return describe_addresses({"eipalloc-08229861", "eipalloc-08229861"});
            }),
            "Elastic IP \"eipalloc-08229861\" is listed twice");
}

TEST(Ec2AddressCalls, AssignPrivateIpAddressesTakesThemFromTheirInterface) {
  EXPECT_EQ(form_body(assign_private_ip_addresses("eni-0f7db66c34c4b0a1c", {"10.0.1.50", "10.0.1.51"})),
            "Action=AssignPrivateIpAddresses&Version=2016-11-15&AllowReassignment=true"
            "&NetworkInterfaceId=eni-0f7db66c34c4b0a1c&PrivateIpAddress.1=10.0.1.50&PrivateIpAddress.2=10.0.1.51");
  // None would let EC2 pick addresses (SecondaryPrivateIpAddressCount).
  EXPECT_EQ(build_refusal([] { return assign_private_ip_addresses("eni-12345678", {}); }),
            "no secondary private IP to assign");
  EXPECT_EQ(build_refusal([] {
              return assign_private_ip_addresses("eni-12345678", {"10.0.1.50", "10.0.1.50"});
            }),
            "secondary private IP \"10.0.1.50\" is listed twice");
}

TEST(Ec2AddressCalls, IdsAndAddressesAreCheckedWhereBuilt) {
  for (const char *id : {"", "eipalloc-", "eipalloc-0822986", "eipalloc-082298611", "eipalloc-0822986G",
                         "eipalloc-08229861 ", "EIPALLOC-08229861", "eipassoc-f0229899", "203.0.113.41",
                         "eipalloc-08229861&AllocationId.2=eipalloc-12345678"}) {
    EXPECT_FALSE(is_allocation_id(id)) << id;
    EXPECT_EQ(build_refusal([&] { return associate_address(id, "eni-12345678"); }).rfind("invalid Elastic IP", 0), 0u)
        << id;
    EXPECT_NE(build_refusal([&] { return describe_addresses({"eipalloc-12345678", id}); }), "") << id;
  }
  for (const char *id : {"", "eni-", "eni-1234567", "eni-0f7db66c34c4b0a1", "eni-0F7DB66C34C4B0A1C", "auto",
                         "i-0598c7d356eba48d7", " eni-12345678"}) {
    EXPECT_FALSE(is_network_interface_id(id)) << id;
    EXPECT_EQ(build_refusal([&] {
                return associate_address("eipalloc-08229861", id);
              }).rfind("invalid network interface id", 0),
              0u)
        << id;
    EXPECT_NE(build_refusal([&] { return assign_private_ip_addresses(id, {"10.0.1.50"}); }), "") << id;
  }
  for (const char *ip : {"10.0.1", "10.0.1.256", "10.0.1.050", " 10.0.1.50", "10.0.1.50/32", "2001:db8::1",
                         "10.0.1.50\n", "0x0a.0.1.50", "10.0.1.50.1"}) {
    EXPECT_FALSE(is_ipv4_address(ip)) << ip;
    EXPECT_EQ(build_refusal([&] {
                return assign_private_ip_addresses("eni-12345678", {ip});
              }).rfind("invalid private IPv4 address", 0),
              0u)
        << ip;
    EXPECT_NE(build_refusal([&] { return associate_address("eipalloc-08229861", "eni-12345678", ip); }), "") << ip;
  }
  EXPECT_TRUE(is_allocation_id("eipalloc-0123456789abcdef0"));
  EXPECT_TRUE(is_network_interface_id("eni-0f7db66c34c4b0a1c"));
  for (const char *ip : {"10.0.1.50", "0.0.0.0", "255.255.255.255", "172.31.0.1"}) EXPECT_TRUE(is_ipv4_address(ip));
  // A message shows a hostile value harmlessly.
  std::string shown = build_refusal([] { return associate_address("eipalloc-1\n2", "eni-12345678"); });
  EXPECT_EQ(shown.find('\n'), std::string::npos) << shown;
}

TEST(Ec2AddressAnswers, DescribeAddresses) {
  auto addresses = parse_addresses(kDescribeAddresses);
  ASSERT_EQ(addresses.size(), 2u);
  const ElasticIp &held = addresses[0];
  EXPECT_EQ(held.allocation_id, "eipalloc-08229861");
  EXPECT_EQ(held.public_ip, "203.0.113.41");
  EXPECT_EQ(held.association_id, "eipassoc-f0229899");
  EXPECT_EQ(held.network_interface_id, "eni-ef229886");
  EXPECT_EQ(held.private_ip_address, "10.0.0.228");
  EXPECT_EQ(held.instance_id, "i-0598c7d356eba48d7");
  EXPECT_TRUE(held.associated());
  EXPECT_EQ(held.tags,
            (std::map<std::string, std::string>{
                {"Name", "db-vip"}, {"pg_vip:10.0.99.10/32:tl3", "tl=3;sysid=7;id=ab;at=1700000000;node=db1"}}));
  const ElasticIp &free = addresses[1];
  EXPECT_EQ(free.allocation_id, "eipalloc-0123456789abcdef0");
  EXPECT_EQ(free.public_ip, "198.51.100.7");
  EXPECT_FALSE(free.associated());
  EXPECT_EQ(free.network_interface_id, "");
  EXPECT_TRUE(free.tags.empty());

  // No address at all is an answer (none of those asked exists is an error
  // EC2 sends instead: InvalidAllocationID.NotFound).
  EXPECT_TRUE(parse_addresses(response("DescribeAddressesResponse", "<addressesSet/>")).empty());
}

TEST(Ec2AddressAnswers, AssociateAddressAndAssignPrivateIpAddresses) {
  EXPECT_EQ(
      parse_association_id(response("AssociateAddressResponse",
                                    "  <return>true</return>\n  <associationId>eipassoc-2bebb745</associationId>\n")),
      "eipassoc-2bebb745");
  EXPECT_EQ(parse_assigned_private_ips(response("AssignPrivateIpAddressesResponse",
                                                "  <networkInterfaceId>eni-0f7db66c34c4b0a1c</networkInterfaceId>\n"
                                                "  <assignedPrivateIpAddressesSet>\n"
                                                "    <item><privateIpAddress>10.0.1.50</privateIpAddress></item>\n"
                                                "    <item><privateIpAddress>10.0.1.51</privateIpAddress></item>\n"
                                                "  </assignedPrivateIpAddressesSet>\n"
                                                "  <assignedIpv4PrefixSet/>\n")),
            (std::vector<std::string>{"10.0.1.50", "10.0.1.51"}));
  // The older answer, as the API Reference's example has it.
  EXPECT_TRUE(
      parse_assigned_private_ips(response("AssignPrivateIpAddressesResponse", "  <return>true</return>\n")).empty());
  EXPECT_EQ(refusal(parse_assigned_private_ips, response("AssignPrivateIpAddressesResponse", "<return>false</return>")),
            "the response says <return>false</return>");
  EXPECT_EQ(refusal(parse_assigned_private_ips, response("AssignPrivateIpAddressesResponse", "<return>yes</return>")),
            "<return> is \"yes\", not true or false");
  EXPECT_EQ(refusal(parse_assigned_private_ips,
                    response("AssignPrivateIpAddressesResponse",
                             "<assignedPrivateIpAddressesSet><item/></assignedPrivateIpAddressesSet>")),
            "an assigned address has no <privateIpAddress>");
  EXPECT_EQ(refusal(parse_association_id, response("AssociateAddressResponse", "<return>true</return>")),
            "the response has no <associationId>");
}

TEST(Ec2AddressAnswers, InterfacesPrimaryAndSecondaryAddresses) {
  auto interfaces = parse_interface_addresses(kDescribeInterfaces);
  ASSERT_EQ(interfaces.size(), 2u);
  const InterfaceAddresses &a = interfaces[0];
  EXPECT_EQ(a.network_interface_id, "eni-0f7db66c34c4b0a1c");
  ASSERT_EQ(a.private_ips.size(), 3u);
  EXPECT_EQ(a.primary_ip(), "10.0.1.10");
  EXPECT_TRUE(a.private_ips[0].primary);
  EXPECT_EQ(a.private_ips[1].address, "10.0.1.50");
  EXPECT_FALSE(a.private_ips[1].primary);
  EXPECT_TRUE(a.has("10.0.1.51"));
  EXPECT_FALSE(a.has("10.0.1.5"));
  // The association's own elements are not read as the interface's.
  EXPECT_FALSE(a.has("203.0.113.41"));
  EXPECT_EQ(a.tags, (std::map<std::string, std::string>{{"pg_vip:10.0.1.50/32:tl2", "tl=2"}}));
  EXPECT_EQ(interfaces[1].network_interface_id, "eni-12345678");
  EXPECT_EQ(interfaces[1].primary_ip(), "10.0.2.20");
  EXPECT_TRUE(interfaces[1].tags.empty());

  // An IPv6-only interface has no private IPv4 address, so no primary.
  auto v6 = parse_interface_addresses(response(
      "DescribeNetworkInterfacesResponse",
      "<networkInterfaceSet><item><networkInterfaceId>eni-12345678</networkInterfaceId></item></networkInterfaceSet>"));
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_TRUE(v6[0].private_ips.empty());
  EXPECT_EQ(v6[0].primary_ip(), "");
}

TEST(Ec2AddressAnswers, MissingFieldsAndDuplicatesAreRefused) {
  auto addresses = [](const std::string &items) {
    return response("DescribeAddressesResponse", "<addressesSet>" + items + "</addressesSet>");
  };
  auto interfaces = [](const std::string &items) {
    return response("DescribeNetworkInterfacesResponse", "<networkInterfaceSet>" + items + "</networkInterfaceSet>");
  };
  auto address = [](const std::string &inner) { return "<item>" + inner + "</item>"; };
  auto interface_with = [](const std::string &addresses_set, const std::string &more = "") {
    return "<item><networkInterfaceId>eni-12345678</networkInterfaceId><privateIpAddressesSet>" + addresses_set +
           "</privateIpAddressesSet>" + more + "</item>";
  };
  auto ip = [](const char *address, const char *primary) {
    return std::string("<item><privateIpAddress>") + address + "</privateIpAddress><primary>" + primary +
           "</primary></item>";
  };

  EXPECT_EQ(refusal(parse_addresses, response("DescribeAddressesResponse", "")), "the response has no <addressesSet>");
  EXPECT_EQ(refusal(parse_addresses, addresses(address("<publicIp>203.0.113.41</publicIp>"))),
            "an address has no <allocationId>");
  // Which of two readings of one address holds the VIP is not a guess to make.
  EXPECT_EQ(refusal(parse_addresses, addresses(address("<allocationId>eipalloc-08229861</allocationId>") +
                                               address("<allocationId>eipalloc-08229861</allocationId>"))),
            "an address \"eipalloc-08229861\" is listed twice");
  EXPECT_EQ(
      refusal(parse_addresses, addresses(address("<allocationId>eipalloc-08229861</allocationId><tagSet>"
                                                 "<item><key>pg_vip:10.0.99.10/32:tl3</key><value>node=a</value></item>"
                                                 "<item><key>pg_vip:10.0.99.10/32:tl3</key><value>node=b</value></item>"
                                                 "</tagSet>"))),
      "a tag key is listed twice on an address (\"pg_vip:10.0.99.10/32:tl3\")");

  EXPECT_EQ(refusal(parse_interface_addresses, response("DescribeNetworkInterfacesResponse", "")),
            "the response has no <networkInterfaceSet>");
  EXPECT_EQ(refusal(parse_interface_addresses, interfaces("<item><status>in-use</status></item>")),
            "a network interface has no <networkInterfaceId>");
  EXPECT_EQ(refusal(parse_interface_addresses, interfaces(interface_with("") + interface_with(""))),
            "a network interface \"eni-12345678\" is listed twice");
  EXPECT_EQ(refusal(parse_interface_addresses, interfaces(interface_with("<item><primary>true</primary></item>"))),
            "a private IP of an interface has no <privateIpAddress>");
  EXPECT_EQ(refusal(parse_interface_addresses,
                    interfaces(interface_with("<item><privateIpAddress>10.0.1.10</privateIpAddress></item>"))),
            "a private IP of an interface has no <primary>");
  EXPECT_EQ(refusal(parse_interface_addresses, interfaces(interface_with(ip("10.0.1.10", "maybe")))),
            "<primary> is \"maybe\", not true or false");
  EXPECT_EQ(
      refusal(parse_interface_addresses, interfaces(interface_with(ip("10.0.1.10", "true") + ip("10.0.1.11", "true")))),
      "a network interface has more than one primary private IP");
  EXPECT_EQ(refusal(parse_interface_addresses,
                    interfaces(interface_with(ip("10.0.1.10", "true") + ip("10.0.1.10", "false")))),
            "the private IP \"10.0.1.10\" is listed twice on one interface");
  EXPECT_EQ(refusal(parse_interface_addresses,
                    interfaces(interface_with(ip("10.0.1.10", "true"),
                                              "<tagSet><item><key>k</key><value>1</value></item>"
                                              "<item><key>k</key><value>2</value></item></tagSet>"))),
            "a tag key is listed twice on a network interface (\"k\")");
}

TEST(Ec2AddressAnswers, HostileBodiesAreMalformedNeverCrashes) {
  using Parser = void (*)(const std::string &);
  const std::vector<std::pair<const char *, Parser>> parsers = {
      {"parse_addresses", [](const std::string &b) { (void) parse_addresses(b); }},
      {"parse_association_id", [](const std::string &b) { (void) parse_association_id(b); }},
      {"parse_interface_addresses", [](const std::string &b) { (void) parse_interface_addresses(b); }},
      {"parse_assigned_private_ips", [](const std::string &b) { (void) parse_assigned_private_ips(b); }},
  };
  std::string huge =
      response("DescribeAddressesResponse", "<addressesSet>" + std::string(9u << 20, ' ') + "</addressesSet>");
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<a>";
  const std::vector<std::string> bodies = {
      "",
      "not xml",
      "<html><body>502 Bad Gateway</body></html>",
      kDescribeAddresses.substr(0, kDescribeAddresses.size() / 2),  // cut short
      huge,
      deep,
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"x\">]><DescribeAddressesResponse>&e;"
      "</DescribeAddressesResponse>",
      response("SomethingElseResponse", "<addressesSet/>"),
      std::string("<DescribeAddressesResponse>\0</DescribeAddressesResponse>", 56),
  };
  for (const auto &p : parsers)
    for (const auto &body : bodies)
      EXPECT_NE(refusal(p.second, body), "") << p.first << " accepted: " << body.substr(0, 80);
  // Each parser reads only its own answer.
  EXPECT_NE(refusal(parse_addresses, kDescribeInterfaces), "");
  EXPECT_NE(refusal(parse_interface_addresses, kDescribeAddresses), "");
}
