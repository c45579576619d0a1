"use strict";

Object.defineProperty(exports, "__esModule", {
  value: true
});
exports.sendMessageToUser = exports.sendMessageToPage = exports.sendMessageToGroup = void 0;
const INTERCOM_URL = 'https://sub54.tobit.com/rest/api';
const sendMessageToUser = async (api, object, receiverUserId) => {
  var _api$values$user;
  if (!object.text) {
    return Promise.reject(new Error('no text specified'));
  }
  const senderUserId = (_api$values$user = api.values.user) === null || _api$values$user === void 0 ? void 0 : _api$values$user.userId;
  if (senderUserId === undefined) {
    return Promise.reject(new Error('missing sender user id'));
  }
  const {
    accessToken
  } = await api.functions.getAccessToken();
  if (!accessToken) {
    return Promise.reject(new Error('send message requires a user to be logged in'));
  }
  if (!accessToken) {
    return Promise.reject(new Error('send message requires a user to be logged in'));
  }
  const images = Array.isArray(object.images) ? object.images.map(imageUrl => ({
    url: imageUrl
  })) : [];
  return sendMessage(`/user/${senderUserId}/message`, accessToken, {
    receivers: [{
      tobitId: receiverUserId
    }],
    message: {
      images,
      text: object.text,
      typeId: 1
    }
  });
};
exports.sendMessageToUser = sendMessageToUser;
const sendMessageToPage = async (api, object) => {
  var _api$values$user2;
  if (!object.text) {
    return Promise.reject(new Error('no text specified'));
  }
  const senderUserId = (_api$values$user2 = api.values.user) === null || _api$values$user2 === void 0 ? void 0 : _api$values$user2.userId;
  if (senderUserId === undefined) {
    return Promise.reject(new Error('missing sender user id'));
  }
  const {
    accessToken
  } = await api.functions.getAccessToken();
  if (!accessToken) {
    return Promise.reject(new Error('send message requires a user to be logged in'));
  }
  const images = Array.isArray(object.images) ? object.images.map(imageUrl => ({
    url: imageUrl
  })) : [];
  return sendMessage(`/user/${senderUserId}/message`, accessToken, {
    receivers: [{
      locationId: api.values.site.locationId
    }],
    message: {
      images,
      text: object.text,
      typeId: 1
    }
  });
};
exports.sendMessageToPage = sendMessageToPage;
const sendMessageToGroup = async (api, object, groupId) => {
  if (!object.text) {
    return Promise.reject(new Error('no text specified'));
  }
  const {
    accessToken
  } = await api.functions.getAccessToken();
  const {
    locationId
  } = api.values.site;
  if (!accessToken) {
    return Promise.reject(new Error('send message requires a user to be logged in'));
  }
  const images = Array.isArray(object.images) ? object.images.map(imageUrl => ({
    url: imageUrl
  })) : [];
  return sendMessage(`/location/${locationId}/broadcast`, accessToken, {
    receivers: [{
      groupId
    }],
    message: {
      images,
      text: object.text,
      typeId: 6
    }
  });
};
exports.sendMessageToGroup = sendMessageToGroup;
function sendMessage(endpoint, token, body) {
  return fetch(`${INTERCOM_URL}${endpoint}`, {
    method: 'POST',
    headers: {
      authorization: `bearer ${token}`,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify(body)
  });
}