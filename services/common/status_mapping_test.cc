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
