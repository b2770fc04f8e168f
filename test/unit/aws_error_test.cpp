// How an AWS error is classified, named and explained: permanent failures
// (authentication, authorization) must never be retried, and an authorization
// failure names the permission the IAM policy lacks.
#include <gtest/gtest.h>

#include <string>

#include "core/aws_error.hpp"
#include "core/ec2_client.hpp"
#include "core/ec2_xml.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

AwsError of_kind(ErrorKind k, std::string code = {}) {
  AwsError e;
  e.kind = k;
  e.code = std::move(code);
  return e;
}

http::Response answer(long status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST(AwsErrorPermanence, UnreadableAuthAnswersArePermanent) {
  // A 401 or 403 whose body cannot be read (a proxy's page, an empty body, a
  // truncated document) is still an authentication or authorization failure:
  // retrying it cannot succeed.
  for (const char *body :
       {"", "<html><body>401 Unauthorized</body></html>", "<Response><Errors><Error><Code>AuthFai"}) {
    AwsError e = parse_error(body, 401);
    EXPECT_EQ(e.kind, ErrorKind::Authentication) << body;
    EXPECT_FALSE(e.retryable()) << body;
    EXPECT_TRUE(e.permanent()) << body;
    EXPECT_EQ(e.http_status, 401);
  }
  for (const char *body :
       {"", "<html><body>403 Forbidden</body></html>", "not xml", "<Response><Errors/></Response>"}) {
    AwsError e = parse_error(body, 403);
    EXPECT_EQ(e.kind, ErrorKind::Authorization) << body;
    EXPECT_FALSE(e.retryable()) << body;
    EXPECT_TRUE(e.permanent()) << body;
  }
  // Other unreadable answers keep their classes.
  EXPECT_EQ(parse_error("", 400).kind, ErrorKind::Malformed);
  EXPECT_EQ(parse_error("<html/>", 502).kind, ErrorKind::ServerError);
  EXPECT_EQ(parse_error("<html/>", 429).kind, ErrorKind::Throttled);
}

TEST(AwsErrorPermanence, AnyCodeOn401Or403IsPermanent) {
  EXPECT_EQ(classify("SomethingNew", 401), ErrorKind::Authentication);
  EXPECT_EQ(classify("SomethingNew", 403), ErrorKind::Authorization);
  EXPECT_EQ(classify("", 401), ErrorKind::Authentication);
  EXPECT_EQ(classify("", 403), ErrorKind::Authorization);
  // Known codes keep their own class whatever the status.
  EXPECT_EQ(classify("SignatureDoesNotMatch", 403), ErrorKind::Authentication);
  EXPECT_EQ(classify("AuthFailure", 401), ErrorKind::Authentication);
  EXPECT_EQ(classify("AuthFailure", 400), ErrorKind::Authentication);
  EXPECT_EQ(classify("UnauthorizedOperation", 403), ErrorKind::Authorization);
  EXPECT_EQ(classify("AccessDenied", 403), ErrorKind::Authorization);
  EXPECT_EQ(classify("AccessDenied", 400), ErrorKind::Authorization);
  EXPECT_EQ(classify("RequestLimitExceeded", 503), ErrorKind::Throttled);
  EXPECT_EQ(classify("ExpiredToken", 400), ErrorKind::ExpiredToken);

  for (const char *code : {"AuthFailure", "UnauthorizedOperation", "AccessDenied"}) {
    for (long status : {400L, 401L, 403L}) {
      AwsError e = parse_error(std::string("<Response><Errors><Error><Code>") + code +
                                   "</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>",
                               status);
      EXPECT_EQ(e.code, code);
      EXPECT_FALSE(e.retryable()) << code << " " << status;
      EXPECT_TRUE(e.permanent()) << code << " " << status;
    }
  }
}

TEST(AwsErrorPermanence, PermanentKinds) {
  EXPECT_TRUE(of_kind(ErrorKind::Authentication).permanent());
  EXPECT_TRUE(of_kind(ErrorKind::Authorization).permanent());
  EXPECT_TRUE(of_kind(ErrorKind::NotFound).permanent());
  EXPECT_TRUE(of_kind(ErrorKind::Invalid).permanent());
  EXPECT_FALSE(of_kind(ErrorKind::Transport).permanent());
  EXPECT_FALSE(of_kind(ErrorKind::Throttled).permanent());
  EXPECT_FALSE(of_kind(ErrorKind::ServerError).permanent());
  EXPECT_FALSE(of_kind(ErrorKind::ExpiredToken).permanent());
  EXPECT_FALSE(of_kind(ErrorKind::Malformed).permanent());
  // No kind is both.
  for (ErrorKind k : {ErrorKind::Transport, ErrorKind::Throttled, ErrorKind::ServerError, ErrorKind::ExpiredToken,
                      ErrorKind::Authentication, ErrorKind::Authorization, ErrorKind::NotFound, ErrorKind::Invalid,
                      ErrorKind::Malformed})
    EXPECT_FALSE(of_kind(k).permanent() && of_kind(k).retryable()) << to_string(k);
}

TEST(AwsErrorPermission, RequiredPermissionNamesTheEc2Action) {
  EXPECT_EQ(required_permission("CreateTags"), "ec2:CreateTags");
  EXPECT_EQ(required_permission("ReplaceRoute"), "ec2:ReplaceRoute");
  EXPECT_EQ(required_permission("DescribeRouteTables"), "ec2:DescribeRouteTables");
}

TEST(AwsErrorPermission, DescribeForNamesTheMissingPermission) {
  AwsError e = parse_error(R"(<Response><Errors><Error><Code>UnauthorizedOperation</Code>)"
                           R"(<Message>You are not authorized to perform this operation.</Message></Error></Errors>)"
                           R"(<RequestID>req-7</RequestID></Response>)",
                           403);
  ASSERT_EQ(e.kind, ErrorKind::Authorization);
  // The permission comes first: a bounded field (vip_routes().last_error) keeps it.
  EXPECT_EQ(e.describe_for("CreateTags"),
            "UnauthorizedOperation (the IAM policy must allow ec2:CreateTags): You are not authorized to perform "
            "this operation. (HTTP 403, request id req-7)");

  // An unreadable 403 names it too.
  EXPECT_NE(parse_error("", 403).describe_for("ReplaceRoute").find("ec2:ReplaceRoute"), std::string::npos);

  // Any other kind: exactly describe().
  AwsError auth = parse_error("<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error>"
                              "</Errors></Response>",
                              401);
  EXPECT_EQ(auth.describe_for("CreateTags"), auth.describe());
  AwsError throttled = of_kind(ErrorKind::Throttled, "RequestLimitExceeded");
  EXPECT_EQ(throttled.describe_for("ReplaceRoute"), throttled.describe());
  AwsError nf = of_kind(ErrorKind::NotFound, "InvalidRouteTableID.NotFound");
  EXPECT_EQ(nf.describe_for("ReplaceRoute"), nf.describe());
}

TEST(DryRun, CallsCarryDryRunTrue) {
  Ec2Call c = with_dry_run(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"));
  EXPECT_EQ(form_body(c), "Action=ReplaceRoute&Version=2016-11-15&DestinationCidrBlock=10.0.99.10%2F32"
                          "&NetworkInterfaceId=eni-0b00000b&RouteTableId=rtb-0a000001&DryRun=true");
  EXPECT_EQ(form_body(with_dry_run(create_tags({"rtb-1"}, {{"k", "v"}}))),
            "Action=CreateTags&Version=2016-11-15&ResourceId.1=rtb-1&Tag.1.Key=k&Tag.1.Value=v&DryRun=true");
  EXPECT_EQ(form_body(with_dry_run(describe_route_tables({"rtb-1"}))),
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1&DryRun=true");
  EXPECT_EQ(c.label(), "ReplaceRoute rtb-0a000001 (dry run)");
  // Once only, however often asked.
  EXPECT_EQ(form_body(with_dry_run(with_dry_run(describe_route_tables({"rtb-1"})))),
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1&DryRun=true");
}

TEST(DryRun, DryRunOperationIsItsOwnNonRetryableOutcome) {
  const char *body = R"(<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>d-1</RequestID></Response>)";
  AwsError e = parse_error(body, 412);
  EXPECT_EQ(e.code, "DryRunOperation");
  EXPECT_TRUE(e.dry_run_ok());
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(e.request_id, "d-1");
  EXPECT_EQ(classify("DryRunOperation", 412), ErrorKind::Invalid);

  Ec2Result r = interpret(answer(412, body));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error->dry_run_ok());
  EXPECT_FALSE(r.error->retryable());
  EXPECT_EQ(r.error->http_status, 412);

  // A dry run the policy refuses is an authorization failure, not a dry-run success.
  AwsError denied = parse_error("<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message>"
                                "</Error></Errors></Response>",
                                403);
  EXPECT_FALSE(denied.dry_run_ok());
  EXPECT_TRUE(denied.permanent());
  EXPECT_FALSE(of_kind(ErrorKind::Invalid, "InvalidParameterValue").dry_run_ok());
}

TEST(Interpret, AnswersBecomeResults) {
  Ec2Result ok = interpret(answer(200, "<ReplaceRouteResponse><requestId>r</requestId><return>true</return>"
                                       "</ReplaceRouteResponse>"));
  EXPECT_TRUE(ok.ok());
  Ec2Result garbage = interpret(answer(200, "<html>hello</html>"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error->kind, ErrorKind::Malformed);
  Ec2Result forbidden = interpret(answer(403, "<html>Forbidden</html>"));
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error->kind, ErrorKind::Authorization);
  EXPECT_FALSE(forbidden.error->retryable());
  http::Response dropped;
  dropped.failure = http::Failure::Connect;
  dropped.error = "refused";
  Ec2Result t = interpret(dropped);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error->kind, ErrorKind::Transport);
  EXPECT_EQ(t.error->code, "ConnectionFailed");
}

TEST(AwsErrorPermission, TheEncodedAuthorizationMessageIsLeftOut) {
  // EC2 appends one to two kilobytes that differ on every call.
  std::string blob(1500, 'Q');
  AwsError e = parse_error(
      "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
      "operation. User: arn:aws:sts::123456789012:assumed-role/db/i-0b is not authorized to perform: "
      "ec2:CreateTags on resource: arn:aws:ec2:us-east-1:123456789012:route-table/rtb-1. Encoded authorization "
      "failure message: " +
          blob + "</Message></Error></Errors></Response>",
      403);
  std::string d = e.describe_for("CreateTags");
  EXPECT_EQ(d.find(blob.substr(0, 20)), std::string::npos) << d;
  EXPECT_NE(d.find("encoded authorization message left out"), std::string::npos) << d;
  EXPECT_LT(d.find("ec2:CreateTags"), 80u) << "the permission within the first 80 bytes";
  EXPECT_LT(d.size(), 400u);
}

TEST(AwsErrorPermission, ThePermissionsServiceComesFromTheActionTable) {
  EXPECT_EQ(required_permission("AssociateAddress"), "ec2:AssociateAddress");
  EXPECT_EQ(required_permission("AssignPrivateIpAddresses"), "ec2:AssignPrivateIpAddresses");
  EXPECT_EQ(required_permission("ChangeResourceRecordSets"), "route53:ChangeResourceRecordSets");
  EXPECT_EQ(required_permission("GetChange"), "route53:GetChange");
  EXPECT_EQ(required_permission("AssumeRole"), "sts:AssumeRole");
  EXPECT_EQ(required_permission("route53:ListResourceRecordSets"), "route53:ListResourceRecordSets");
  // An action pg_vip does not call is taken for EC2's, as before the table;
  // a permission given whole is kept.
  EXPECT_EQ(required_permission("DescribeInstances"), "ec2:DescribeInstances");
  EXPECT_EQ(required_permission("iam:PassRole"), "iam:PassRole");

  // Route 53 and STS answer AccessDenied (HTTP 403) in their own dialects.
  AwsError r53 = parse_error("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not "
                             "authorized</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
                             403);
  ASSERT_EQ(r53.kind, ErrorKind::Authorization);
  EXPECT_EQ(r53.describe_for("ChangeResourceRecordSets"),
            "AccessDenied (the IAM policy must allow route53:ChangeResourceRecordSets): User is not authorized "
            "(HTTP 403, request id r-1)");
  EXPECT_NE(r53.describe_for("AssumeRole").find("(the IAM policy must allow sts:AssumeRole)"), std::string::npos);
}

TEST(AwsErrorPermission, AnAuthorizationHintSaysWhereTheActionIsAllowed) {
  AwsError denied = of_kind(ErrorKind::Authorization, "UnauthorizedOperation");
  EXPECT_EQ(denied.hint_for("ReplaceRoute"),
            "Allow ec2:ReplaceRoute on the configured route tables in the IAM policy of the credentials that change "
            "the targets: statement PgVipMoveRoute of vip_iam_policy() (docs/iam.md).");
  // CreateTags is allowed on each kind's resources: the kind says which.
  EXPECT_NE(denied.hint_for("CreateTags", Kind::ElasticIp).find("on the configured Elastic IPs"), std::string::npos);
  EXPECT_NE(denied.hint_for("CreateTags").find("on the configured route tables"), std::string::npos);
  EXPECT_NE(denied.hint_for("DescribeNetworkInterfaceAttribute").find("the node's own credentials"), std::string::npos);
  std::string role = denied.hint_for("AssumeRole");
  EXPECT_NE(role.find("Allow sts:AssumeRole on the role's ARN"), std::string::npos) << role;
  EXPECT_NE(role.find("trust policy"), std::string::npos) << role;
  // An action the table does not know, and any other kind: hint().
  EXPECT_EQ(denied.hint_for("DescribeInstances"), denied.hint());
  AwsError nf = of_kind(ErrorKind::NotFound, "InvalidAllocationID.NotFound");
  EXPECT_EQ(nf.hint_for("AssociateAddress"), nf.hint());
  // hint() alone names what route tables need, from the table.
  EXPECT_EQ(denied.hint(),
            "Allow ec2:DescribeRouteTables, ec2:DescribeNetworkInterfaces, ec2:DescribeNetworkInterfaceAttribute, "
            "ec2:ReplaceRoute, ec2:CreateRoute, ec2:CreateTags and ec2:DeleteTags in the IAM policy of the "
            "credentials pg_vip uses; vip_iam_policy() prints the policy for every kind of target (docs/iam.md).");
}
