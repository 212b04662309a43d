//! The OpenAPI document and the docs page.

use super::spawn;

#[tokio::test]
async fn openapi_json_describes_every_techfesia_endpoint() {
    let tf = spawn().await;
    let a = tf.get("/openapi.json", None).await;
    assert_eq!(a.status, 200);
    assert!(a.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = a.body["paths"].as_object().unwrap();
    let expected = [
        ("/auth/token/", &["post", "put", "delete"][..]),
        ("/auth/token/refresh/", &["post"]),
        ("/auth/o-auth/{provider}/", &["post"]),
        ("/auth/password/reset/", &["post"]),
        // One path per resource, whatever trailing slash the seed shows (both are served):
        // a client reads the methods of a path as the methods of that resource.
        ("/users", &["get", "post"]),
        ("/users/{username}", &["get", "put", "delete"]),
        ("/users/{username}/disable", &["put"]),
        ("/users/{username}/picture", &["put"]),
        ("/users/{username}/privileges", &["get", "put"]),
        ("/users/{username}/auth_modes", &["get"]),
        ("/users/{username}/password/", &["post", "put", "patch"]),
    ];
    for (path, methods) in expected {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path} missing");
        }
    }
    let user = &a.body["components"]["schemas"]["UserDto"]["properties"];
    for field in super::USER_FIELDS {
        assert!(user.get(field).is_some(), "UserDto.{field} missing");
    }
    let page = tf.app.client.get(tf.app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("/openapi.json"));
}
