#include "services/common/status_mapping.h"

#include "gtest/gtest.h"

namespace portunus {
namespace {

TEST(StatusMappingTest, HttpCodesFollowEnvoy) {
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(absl::FailedPreconditionError("x")), 400);
  EXPECT_EQ(HttpStatusFor(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(absl::PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusFor(absl::NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(absl::AbortedError("x")), 409);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(absl::UnimplementedError("x")), 501);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("x")), 504);
  EXPECT_EQ(HttpStatusFor(absl::InternalError("x")), 500);
}

TEST(StatusMappingTest, FieldErrorsAre422AndSurviveGrpc) {
  absl::Status s = InvalidFieldError("user.username", "is too long");
  EXPECT_EQ(s.message(), "user.username: is too long");
  EXPECT_EQ(HttpStatusFor(s), 422);
  absl::Status back = FromGrpcStatus(ToGrpcStatus(s, "rid"));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(back), "user.username");
  EXPECT_EQ(HttpStatusFor(back), 422);
}

TEST(StatusMappingTest, RuleConflictsAre409AndSurviveGrpc) {
  absl::Status s = RuleConflictError("last_owner", "alice is the last owner of team devs");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "alice is the last owner of team devs");
  EXPECT_EQ(ErrorRule(s), "last_owner");
  EXPECT_EQ(ErrorField(s), "");
  EXPECT_EQ(HttpStatusFor(s), 409);
  grpc::Status g = ToGrpcStatus(s, "rid");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(back), "last_owner");
  EXPECT_EQ(HttpStatusFor(back), 409);
  // Without a rule a FailedPrecondition keeps Envoy's 400, and other codes never gain a rule.
  EXPECT_EQ(ErrorRule(FromGrpcStatus(ToGrpcStatus(absl::FailedPreconditionError("x")))), "");
  EXPECT_EQ(ErrorRule(FromGrpcStatus(ToGrpcStatus(InvalidFieldError("a", "b")))), "");
}

TEST(StatusMappingTest, InternalMessagesNeverLeave) {
  grpc::Status g = ToGrpcStatus(absl::InternalError("pq: password=hunter2 failed"), "req-1");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(g.error_message(), "internal error (request id req-1)");
  EXPECT_EQ(PublicMessage(absl::DataLossError("secret")), "internal error");
  EXPECT_EQ(PublicMessage(absl::NotFoundError("no such user bob")), "no such user bob");
}

TEST(StatusMappingTest, SameNumericCodes) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace portunus
